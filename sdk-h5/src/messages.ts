/**
 * The SDK's own words: what to tell a player about an error, a notice or the end of a play,
 * in English or Simplified Chinese. Codes stay stable and English (`error.code`, `ended.reason`);
 * these texts are for people, and the events carry them as `text` in the player's `locale`.
 *
 * A small table rather than a message-format library: a few dozen fixed sentences with no
 * arguments but one, in two languages, where a library would outweigh the SDK itself.
 */

/** A language the SDK speaks. */
export type Locale = "en" | "zh-CN";

/** The languages the SDK speaks. */
export const LOCALES: readonly Locale[] = ["en", "zh-CN"];

type Table = {
  /** Errors, by code (the SDK's `SdkCode`s and the controller's problem codes players meet). */
  error: Record<string, string>;
  /** Notices, by code. */
  notice: Record<string, string>;
  /** Why a play ended, by reason. */
  ended: Record<string, string>;
  /** Any other error. */
  errorOther: string;
  /** Any other notice or warning (its code follows in parentheses). */
  noticeOther: string;
  /** Any other reason; `{reason}` is the reason's code. */
  endedOther: string;
  /** Maintenance at a known time: `{minutes}` until it starts (at least 1). */
  maintenanceIn: string;
};

const EN: Table = {
  error: {
    NETWORK: "We could not reach the game service. Check your connection and try again.",
    BAD_RESPONSE: "The game service gave an answer we did not understand.",
    BAD_SIGNAL: "The game server sent something we did not understand.",
    CONNECTION_LOST: "The connection was lost and could not be restored.",
    WEBRTC_FAILED: "Your browser could not connect to the game.",
    PREPARE_TIMEOUT: "The game took too long to start.",
    TICKET_ENDED: "Your place in line was given up.",
    CANCELLED: "You cancelled.",
    INVALID_STATE: "That cannot be done right now.",
    PROBE_TIMEOUT: "The latency measurement got no answer.",
    INVALID_DEVICE_ID: "This device's id is not valid.",
    ENDED: "The game has ended.",
    LINK_EXPIRED: "This link has expired.",
    LINK_REVOKED: "This link has been withdrawn.",
    LINK_EXHAUSTED: "This link has been used up.",
    RATE_LIMITED: "Too many tries: please wait a moment.",
    NO_CAPACITY: "No game server can take you right now.",
    UNAUTHORIZED: "Your sign-in for this game is not valid any more.",
    NOT_FOUND: "We could not find this game.",
  },
  notice: {
    IDLE_WARNING: "Still there? The game ends soon if nothing happens.",
    MAINTENANCE: "This game server goes into maintenance soon.",
    DOWNGRADED: "Lower picture quality for now: the servers are busy.",
    RECOVERING: "The picture stalled: reconnecting…",
    RECOVERED: "The picture is back.",
    SENSORS_UNSUPPORTED: "This game server cannot take the phone's sensors.",
    LOCATION_UNAVAILABLE: "Your position is not available.",
  },
  ended: {
    TRIAL_OVER: "Your free trial is over.",
    USER_LEFT: "You left the game.",
    IDLE: "The game ended because there was no input for a while.",
    KICKED: "The game was ended by the publisher.",
    BOARD_LOST: "We lost the connection to the game server.",
    APP_CRASHED: "The game stopped unexpectedly.",
    APP_NOT_RESPONDING: "The game stopped responding.",
    MAINTENANCE: "The game server went into maintenance. Please come back later.",
    CLAIM_EXPIRED: "Your turn came, but the game was not started in time.",
    CONNECTION_LOST: "The connection was lost and could not be restored.",
    REPLACED: "You started this game again somewhere else.",
    ERROR: "Something went wrong on our side.",
  },
  errorOther: "The game could not start.",
  noticeOther: "A message from the game server.",
  endedOther: "The game ended ({reason}).",
  maintenanceIn: "This game server goes into maintenance in {minutes} min: your game ends then, and your progress is saved.",
};

const ZH_CN: Table = {
  error: {
    NETWORK: "无法连接游戏服务，请检查网络后重试。",
    BAD_RESPONSE: "游戏服务返回了无法识别的应答。",
    BAD_SIGNAL: "游戏服务器发来了无法识别的消息。",
    CONNECTION_LOST: "连接已断开，无法恢复。",
    WEBRTC_FAILED: "你的浏览器无法连接到游戏。",
    PREPARE_TIMEOUT: "游戏启动超时。",
    TICKET_ENDED: "你的排队名额已失效。",
    CANCELLED: "你已取消。",
    INVALID_STATE: "现在无法进行此操作。",
    PROBE_TIMEOUT: "延迟测量没有得到应答。",
    INVALID_DEVICE_ID: "此设备的标识无效。",
    ENDED: "游戏已结束。",
    LINK_EXPIRED: "此链接已过期。",
    LINK_REVOKED: "此链接已撤回。",
    LINK_EXHAUSTED: "此链接的名额已用完。",
    RATE_LIMITED: "尝试次数太多，请稍等片刻。",
    NO_CAPACITY: "暂时没有可用的游戏服务器。",
    UNAUTHORIZED: "你在这款游戏的登录凭证已失效。",
    NOT_FOUND: "找不到这款游戏。",
  },
  notice: {
    IDLE_WARNING: "还在吗？如果一直没有操作，游戏很快就会结束。",
    MAINTENANCE: "这台游戏服务器即将进入维护。",
    DOWNGRADED: "服务器繁忙，暂以较低画质游戏。",
    RECOVERING: "画面卡住了，正在重新连接…",
    RECOVERED: "画面已恢复。",
    SENSORS_UNSUPPORTED: "这台游戏服务器无法接收手机的传感器数据。",
    LOCATION_UNAVAILABLE: "无法获取你的位置。",
  },
  ended: {
    TRIAL_OVER: "免费试玩时间已到。",
    USER_LEFT: "你已退出游戏。",
    IDLE: "长时间没有操作，游戏已结束。",
    KICKED: "游戏已被发行方结束。",
    BOARD_LOST: "与游戏服务器的连接已断开。",
    APP_CRASHED: "游戏意外退出。",
    APP_NOT_RESPONDING: "游戏没有响应。",
    MAINTENANCE: "游戏服务器进入维护，请稍后再来。",
    CLAIM_EXPIRED: "轮到你时游戏未能及时启动。",
    CONNECTION_LOST: "连接已断开，无法恢复。",
    REPLACED: "你已在其他地方重新开始这款游戏。",
    ERROR: "我们这边出了点问题。",
  },
  errorOther: "游戏未能启动。",
  noticeOther: "来自游戏服务器的消息。",
  endedOther: "游戏已结束（{reason}）。",
  maintenanceIn: "这台游戏服务器将在 {minutes} 分钟后进入维护：届时游戏结束，进度会被保存。",
};

const TABLES: Record<Locale, Table> = { en: EN, "zh-CN": ZH_CN };

/**
 * The SDK's language for a preference: a `Locale`, any BCP 47 tag, or a list of them in order
 * of preference (as `navigator.languages`). Any Chinese is served as `zh-CN`; anything else
 * the SDK does not speak falls through to the next preference, then to English.
 */
export function pickLocale(wanted: string | readonly string[] | undefined): Locale {
  const list = typeof wanted === "string" ? [wanted] : (wanted ?? []);
  for (const tag of list) {
    const lower = tag.trim().toLowerCase();
    if (lower === "zh" || lower.startsWith("zh-")) return "zh-CN";
    if (lower === "en" || lower.startsWith("en-")) return "en";
  }
  return "en";
}

/** What to tell a player about an error with `code`. */
export function errorText(code: string, locale: Locale): string {
  const t = TABLES[locale] ?? EN;
  return t.error[code] ?? t.errorOther;
}

/**
 * What to tell a player about a notice or warning with `code`; for maintenance at a known time
 * `at` (RFC 3339), how long until it starts as of `now` (milliseconds since the epoch).
 */
export function noticeText(code: string, locale: Locale, at?: string, now: number = Date.now()): string {
  const t = TABLES[locale] ?? EN;
  const when = at === undefined ? Number.NaN : Date.parse(at);
  if (code === "MAINTENANCE" && Number.isFinite(when) && when > now) {
    const minutes = Math.max(1, Math.ceil((when - now) / 60_000));
    return t.maintenanceIn.replace("{minutes}", String(minutes));
  }
  return t.notice[code] ?? t.noticeOther;
}

/** What to tell a player about a play that ended for `reason`. */
export function endedText(reason: string, locale: Locale): string {
  const t = TABLES[locale] ?? EN;
  return t.ended[reason] ?? t.endedOther.replace("{reason}", reason);
}

/** Both tables, for tests that check they say the same things. */
export const TABLES_FOR_TESTS = TABLES;
