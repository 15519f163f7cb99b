/**
 * A React component around the SDK: one player per mounted component, destroyed on unmount.
 * `target` is a try-play link or a game with a player token from your backend; the component
 * reports the player's state and ending (its reason code and what to tell the player, in
 * `locale`) to its parent.
 */
import { useEffect, useRef, useState } from "react";
import { createPlayer, type Player, type PlayerState, type PlayTarget } from "@playrack/sdk-h5";

export interface PlayrackPlayerProps {
  /** Your Playrack controller (or portal) origin. */
  apiBase: string;
  target: PlayTarget;
  onState?: (state: PlayerState) => void;
  onEnded?: (reason: string, text: string) => void;
  /** "en" or "zh-CN"; default the browser's language. */
  locale?: string;
}

export function PlayrackPlayer({ apiBase, target, onState, onEnded, locale }: PlayrackPlayerProps) {
  const container = useRef<HTMLDivElement>(null);
  const player = useRef<Player | null>(null);
  const [state, setState] = useState<PlayerState>("idle");

  useEffect(() => {
    if (!container.current) return;
    const p = createPlayer(container.current, { apiBase, locale });
    player.current = p;
    const offState = p.on("state", (s) => {
      setState(s);
      onState?.(s);
    });
    const offEnded = p.on("ended", (e) => onEnded?.(e.reason, e.text));
    return () => {
      offState();
      offEnded();
      p.destroy();
      player.current = null;
    };
  }, [apiBase, locale]);

  const busy = state === "queued" || state === "connecting" || state === "playing";
  return (
    <div>
      <div ref={container} style={{ width: "100%", aspectRatio: "9 / 16", background: "#000" }} />
      <button disabled={busy} onClick={() => player.current?.play(target).catch(() => undefined)}>
        Play
      </button>
      <button disabled={!busy} onClick={() => player.current?.leave()}>
        Leave
      </button>
      <span> {state}</span>
    </div>
  );
}
