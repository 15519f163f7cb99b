# 公开观看页（/watch/<code>）：只读观看一局游戏，或一面多局的展示墙。

watch-title = 正在直播
watch-loading = 正在寻找游戏…
watch-waiting = 现在没有人在玩：一有人开始，画面就会出现。
watch-read-only = 你正在观看：这里不能操作游戏。
watch-tile-connecting = 正在连接…
watch-tile-watching = 直播中
watch-tile-ended = 这局游戏已结束。
watch-tile-error = 这局游戏无法显示。
watch-tile-idle = 已停止。
watch-WATCH_NOT_FOUND = 没有这个观看链接。
watch-WATCH_REVOKED = 此观看链接已撤回。
watch-WATCH_EXPIRED = 此观看链接已过期。
watch-WATCH_ENDED = 此链接所展示的游戏已结束。
watch-WATCH_FULL = 通过此链接观看的人太多，请稍后再试。
watch-NETWORK = 无法连接游戏服务，请检查网络。
watch-RATE_LIMITED = 尝试次数太多，请稍等片刻。
