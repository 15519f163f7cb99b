package com.playrack.sdk;

import java.nio.ByteBuffer;

/** Just enough of the HPROF format to count "ROOT JNI GLOBAL" records in a heap dump. */
final class Hprof {
    private Hprof() {}

    static int countJniGlobals(byte[] dump) {
        ByteBuffer b = ByteBuffer.wrap(dump);
        while (b.get() != 0) {} // "JAVA PROFILE 1.0.2\\0"
        int idSize = b.getInt();
        b.getLong(); // timestamp
        int count = 0;
        while (b.remaining() >= 9) {
            int tag = b.get() & 0xff;
            b.getInt(); // time
            long length = b.getInt() & 0xffffffffL;
            int end = b.position() + (int) length;
            if (tag == 0x0C || tag == 0x1C) { // HEAP DUMP (SEGMENT)
                while (b.position() < end) {
                    int sub = b.get() & 0xff;
                    switch (sub) {
                        case 0x01 -> { count++; skip(b, 2 * idSize); } // ROOT JNI GLOBAL: object, ref
                        case 0xFF -> skip(b, idSize); // ROOT UNKNOWN
                        case 0x02, 0x03 -> skip(b, idSize + 8); // JNI LOCAL, JAVA FRAME
                        case 0x04 -> skip(b, idSize + 4); // NATIVE STACK
                        case 0x05, 0x07 -> skip(b, idSize); // STICKY CLASS, MONITOR USED
                        case 0x06 -> skip(b, idSize + 4); // THREAD BLOCK
                        case 0x08 -> skip(b, idSize + 8); // THREAD OBJECT
                        case 0x20 -> classDump(b, idSize);
                        case 0x21 -> { skip(b, idSize + 4 + idSize); skip(b, b.getInt()); } // INSTANCE
                        case 0x22 -> { skip(b, idSize + 4); int n = b.getInt(); skip(b, idSize + (long) n * idSize); }
                        case 0x23 -> { skip(b, idSize + 4); int n = b.getInt(); skip(b, (long) n * size(b.get(), idSize)); }
                        default -> throw new IllegalStateException("heap record 0x" + Integer.toHexString(sub));
                    }
                }
            }
            b.position(end);
        }
        return count;
    }

    private static void classDump(ByteBuffer b, int idSize) {
        skip(b, idSize + 4 + 6L * idSize + 4);
        int constants = b.getShort() & 0xffff;
        for (int i = 0; i < constants; i++) {
            b.getShort();
            skip(b, size(b.get(), idSize));
        }
        int statics = b.getShort() & 0xffff;
        for (int i = 0; i < statics; i++) {
            skip(b, idSize);
            skip(b, size(b.get(), idSize));
        }
        int fields = b.getShort() & 0xffff;
        skip(b, fields * (long) (idSize + 1));
    }

    private static int size(byte type, int idSize) {
        return switch (type) {
            case 2 -> idSize; // object
            case 4, 8 -> 1; // boolean, byte
            case 5, 9 -> 2; // char, short
            case 6, 10 -> 4; // float, int
            case 7, 11 -> 8; // double, long
            default -> throw new IllegalStateException("basic type " + type);
        };
    }

    private static void skip(ByteBuffer b, long n) {
        b.position(b.position() + (int) n);
    }
}
