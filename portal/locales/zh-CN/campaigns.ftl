# 租户控制台的推广活动页：试玩链接带来的效果。

cp-title = 推广活动
cp-intro = 试玩链接按推广活动（链接所带的标签）统计的效果：链接被打开的次数、发起的试玩（以及其中排队的次数）、开始的试玩、游玩时长，以及行动号召按钮的点击。
cp-from = 开始日期
cp-to = 结束日期（不含）
cp-show = 查看
cp-caption = 推广活动
cp-campaign = 活动
cp-links = 链接数
cp-day = 日期
cp-opens = 打开
cp-acquires = 发起试玩
cp-queued = 排队
cp-plays = 试玩
cp-minutes = 游玩分钟
cp-conversions = 转化
cp-rate-head = 转化率
cp-rate = { $pct }%
cp-per-day = ：每日
cp-per-day-caption = 每日
cp-total = { $opens } 次打开，{ $plays } 次试玩，{ $conversions } 次转化。
cp-chart = 每日试玩次数
cp-figures = 效果

# 把链接放到发行方自己的网站上。
em-summary = 嵌入
em-no-sites = 此链接没有指定网站，其页面不能被嵌入框架：请创建指定了可嵌入网站的链接，或使用 SDK。
em-sites = 可嵌入以下网站的框架中：
em-copy-iframe = 复制 iframe 代码
em-sdk = 或在您自己的页面上用 H5 SDK 试玩：
em-copy-sdk = 复制 SDK 代码
