//! Regions, rooms, arrays, boards, orders and instances.
