# 试玩页（/play/<code>）及其脚本显示的文字。

skip-to-content = 跳到正文
language = 语言
go-start = 返回首页
error-code = 错误码：
error-request = 请求

link-revoked-title = 此链接已撤回
link-revoked-text = 发行方已不再提供这个试玩链接。
link-expired-title = 此链接已过期
link-expired-text = 这个链接的试玩期已经结束。
link-used-up-title = 此链接的名额已用完
link-used-up-text = 这个链接提供的试玩次数已全部被领取。
link-not-found-title = 找不到这款游戏
link-not-found-text = 请检查收到的链接：它没有指向任何游戏。
link-unavailable-title = 游戏服务暂时不可用
link-unavailable-text = 请稍后再试。
link-unplayable-title = 此链接无法试玩
link-unplayable-text = 这个链接目前不能试玩。

duration-seconds = { $n } 秒
duration-minutes = { $n } 分钟
duration-minutes-seconds = { $m } 分 { $s } 秒
free-trial = 免费试玩 · { $length }

saves-title = 从哪个存档继续
save-newest = 最新
save-pinned = 已保留
play = 开始试玩
sdk-missing = 播放器加载失败，请稍后再试。
queue-title = 正在排队
queue-position = 第
queue-of = 位，共
queue-about = 人 · 预计
queue-leave = 退出排队
starting = 正在启动游戏…
preparing = 正在准备游戏…
connecting = 正在连接…
game = 游戏
still-here = 我还在
mute = 静音
unmute = 取消静音
fullscreen = 全屏
exit-fullscreen = 退出全屏
keyboard = 键盘
leave = 退出
rotate-hint = 请把手机横过来：这款游戏需要横屏。
thanks = 感谢试玩
play-again = 再玩一次

eta-under-minute = 不到 1 分钟
eta-minutes = { $n } 分钟
queue-reason-TENANT_QUOTA_FULL = 这款游戏的名额暂时已满。
queue-reason-ROOM_FULL = 附近的游戏服务器暂时已满。

end-TRIAL_OVER = 免费试玩时间已到。
end-USER_LEFT = 你已退出游戏。
end-IDLE = 长时间没有操作，游戏已结束。
end-KICKED = 游戏已被发行方结束。
end-BOARD_LOST = 与游戏服务器的连接已断开。
end-APP_CRASHED = 游戏意外退出。
end-APP_NOT_RESPONDING = 游戏没有响应。
end-MAINTENANCE = 游戏服务器进入维护，请稍后再来。
end-CLAIM_EXPIRED = 轮到你时游戏未能及时启动。
end-CONNECTION_LOST = 连接已断开，无法恢复。
end-REPLACED = 你已在其他地方重新开始这款游戏。
end-ERROR = 我们这边出了点问题。
end-other = 游戏已结束（{ $reason }）。

notice-IDLE_WARNING = 还在吗？如果一直没有操作，游戏很快就会结束。
notice-MAINTENANCE = 这台游戏服务器即将进入维护。
notice-RECOVERING = 画面卡住了，正在重新连接…

error-generic = 游戏未能启动。
error-NETWORK = 无法连接游戏服务，请检查网络后重试。
error-CONNECTION_LOST = 连接已断开，无法恢复。
error-WEBRTC_FAILED = 你的浏览器无法连接到游戏。
error-PREPARE_TIMEOUT = 游戏启动超时。
error-TICKET_ENDED = 你的排队名额已失效。
error-LINK_EXPIRED = 此链接已过期。
error-LINK_REVOKED = 此链接已撤回。
error-LINK_EXHAUSTED = 此链接的名额已用完。
error-RATE_LIMITED = 尝试次数太多，请稍等片刻。
error-NO_CAPACITY = 暂时没有可用的游戏服务器。
error-SDK_MISSING = 播放器加载失败，请稍后再试。
