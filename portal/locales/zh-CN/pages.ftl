# 两个控制台共用的页面：登录、页面不存在、控制器读取失败、录像。

signin-title = 登录
signin-email = 邮箱
signin-password = 密码
signin-expired = 登录表单已过期，请重试。
signin-wrong = 邮箱或密码错误。
signin-too-many = 尝试次数过多，请稍候再试。
signin-unavailable = 暂时无法登录（{ $code }）。

page-not-found-title = 页面不存在
page-not-found-text = 这个地址下没有内容。
failed-not-found-title = 未找到
failed-not-found-text = 它不存在，或者您无权查看。
failed-forbidden-title = 无权操作
failed-forbidden-text = 您的角色不允许此操作。
failed-server-title = 出了点问题
failed-server-text = 平台暂时无法响应，请稍后再试。
failed-other-title = 操作未成功

rec-caption = 录像
rec-recording = 录像
rec-session = 会话
rec-state = 状态
rec-frames = 帧数
rec-length = 时长
rec-size = 大小
rec-kept-until = 保留至
rec-state-recording = 录制中
rec-state-ready = 就绪
rec-state-failed = 失败
rec-stop = 停止
rec-download = 下载 MP4
