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
queue-reason-NEW_PLAYS_PAUSED = 新的试玩暂时暂停，您的排队位置会保留。

error-generic = 游戏未能启动。
