# The tenant console's campaigns page (what try-play links led to) and link embedding.

cp-title = Campaigns
cp-intro = What your try-play links led to, per campaign (the tag a link carries): how often the link was opened, plays asked for (and how many waited in line), plays that started, their minutes, and clicks on the call to action.
cp-from = From
cp-to = To (exclusive)
cp-show = Show
cp-caption = Campaigns
cp-campaign = Campaign
cp-links = Links
cp-day = Day
cp-opens = Opens
cp-acquires = Plays asked
cp-queued = Waited in line
cp-plays = Plays
cp-minutes = Play minutes
cp-conversions = Conversions
cp-rate-head = Conversion rate
cp-rate = { $pct }%
cp-per-day = : per day
cp-per-day-caption = Per day
cp-total = { $opens ->
    [one] 1 open
   *[other] { $opens } opens
}, { $plays ->
    [one] 1 play
   *[other] { $plays } plays
}, { $conversions ->
    [one] 1 conversion
   *[other] { $conversions } conversions
}.
cp-chart = Plays per day
cp-figures = Figures

# Putting a link on the publisher's own site.
em-summary = Embed
em-no-sites = This link names no sites, so its page cannot be shown in a frame: create a link with the sites that may embed it, or use the SDK.
em-sites = May be shown in a frame on:
em-copy-iframe = Copy iframe
em-sdk = Or play it with the H5 SDK on your own page:
em-copy-sdk = Copy SDK snippet
