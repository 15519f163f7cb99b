/**
 * Playrack's H5 player SDK. Embed a game stream:
 *
 * ```js
 * import { createPlayer } from "./playrack.js";
 * const player = createPlayer(document.getElementById("game"), { apiBase: "https://controller.example" });
 * player.on("queued", ({ position }) => …);
 * await player.play({ link: "CODE" });
 * ```
 *
 * The wire types (generated from the Rust `playrack-wire` crate) are re-exported for pages that
 * talk to the controller themselves.
 */
export { createPlayer, Player, resolveDeviceId } from "./player.js";
export type { Env, PlayerEvents, PlayerOptions, PlayerState, PlayOptions, PlayTarget } from "./player.js";
export { PlayrackError, SdkCode } from "./errors.js";
export { endedText, errorText, LOCALES, noticeText, pickLocale } from "./messages.js";
export type { Locale } from "./messages.js";
export type { LatencyBreakdown, PlayerStats } from "./stats.js";
export type { Rotation } from "./input.js";
export { probeSquare } from "./probe.js";
export * from "./generated/wire.js";
