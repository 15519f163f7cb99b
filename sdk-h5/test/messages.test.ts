// The SDK's words: both languages say the same things, every code the SDK makes has words,
// the Chinese says it in Chinese, and a preference picks the language it should.

import { test } from "node:test";
import assert from "node:assert/strict";
import { endedText, errorText, noticeText, pickLocale, TABLES_FOR_TESTS } from "../src/messages.js";
import { SdkCode } from "../src/errors.js";

test("a preference picks the language: any Chinese is zh-CN, the first spoken one wins, else English", () => {
  assert.equal(pickLocale("zh-CN"), "zh-CN");
  assert.equal(pickLocale(["zh-Hant-TW"]), "zh-CN");
  assert.equal(pickLocale(["fr-FR", "zh", "en"]), "zh-CN");
  assert.equal(pickLocale(["fr-FR", "en-GB", "zh"]), "en");
  assert.equal(pickLocale(["de", "ja"]), "en");
  assert.equal(pickLocale(undefined), "en");
  assert.equal(pickLocale([]), "en");
  assert.equal(pickLocale("  ZH-cn "), "zh-CN");
});

test("both tables carry the same codes, and every code the SDK makes has words", () => {
  const { en, "zh-CN": zh } = TABLES_FOR_TESTS;
  for (const part of ["error", "notice", "ended"] as const) {
    assert.deepEqual(Object.keys(zh[part]).sort(), Object.keys(en[part]).sort(), part);
  }
  for (const code of Object.values(SdkCode)) {
    assert.ok(code in en.error, `${code} has no words`);
  }
});

test("the Chinese table is Chinese: no English words, full-width punctuation", () => {
  const { "zh-CN": zh } = TABLES_FOR_TESTS;
  const texts = [...Object.values(zh.error), ...Object.values(zh.notice), ...Object.values(zh.ended), zh.errorOther, zh.noticeOther];
  for (const t of texts) {
    assert.doesNotMatch(t, /[A-Za-z]{2,}/, t);
    assert.match(t, /[\u4e00-\u9fff]/, t);
    assert.doesNotMatch(t, /[,.:;?]$/, t);
  }
});

test("maintenance at a known time says the minutes left; past or unknown, the plain words", () => {
  const now = Date.parse("2026-12-05T10:00:00Z");
  const at = "2026-12-05T10:04:10Z";
  assert.match(noticeText("MAINTENANCE", "en", at, now), /in 5 min: your game ends then/);
  assert.equal(noticeText("MAINTENANCE", "zh-CN", at, now), "这台游戏服务器将在 5 分钟后进入维护：届时游戏结束，进度会被保存。");
  assert.match(noticeText("MAINTENANCE", "en", "2026-12-05T10:00:20Z", now), /in 1 min/, "less than a minute is 1");
  assert.equal(noticeText("MAINTENANCE", "en", "2026-12-05T09:59:00Z", now), "This game server goes into maintenance soon.");
  assert.equal(noticeText("MAINTENANCE", "en", "not a time", now), "This game server goes into maintenance soon.");
  assert.equal(noticeText("IDLE_WARNING", "en", at, now), "Still there? The game ends soon if nothing happens.");
});

test("unknown codes still say something, in the language asked for", () => {
  assert.equal(errorText("NO_CAPACITY", "zh-CN"), "暂时没有可用的游戏服务器。");
  assert.equal(errorText("SOMETHING_NEW", "en"), "The game could not start.");
  assert.equal(errorText("SOMETHING_NEW", "zh-CN"), "游戏未能启动。");
  assert.equal(noticeText("RECOVERING", "zh-CN"), "画面卡住了，正在重新连接…");
  assert.equal(endedText("SOMETHING_NEW", "zh-CN"), "游戏已结束（SOMETHING_NEW）。");
  assert.equal(endedText("IDLE", "en"), "The game ended because there was no input for a while.");
});
