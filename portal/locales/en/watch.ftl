# The public watch page (/watch/<code>): a play, or a wall of plays, watched read-only.

watch-title = Watching live
watch-loading = Looking for the game…
watch-waiting = Nobody is playing right now: the picture appears as soon as someone does.
watch-read-only = You are watching: you cannot play from here.
watch-tile-connecting = Connecting…
watch-tile-watching = Live
watch-tile-ended = This play ended.
watch-tile-error = This play cannot be shown.
watch-tile-idle = Stopped.
watch-WATCH_NOT_FOUND = There is no such watch link.
watch-WATCH_REVOKED = This watch link has been withdrawn.
watch-WATCH_EXPIRED = This watch link has expired.
watch-WATCH_ENDED = The play this link showed is over.
watch-WATCH_FULL = Too many people are watching through this link: try again later.
watch-NETWORK = We could not reach the game service. Check your connection.
watch-RATE_LIMITED = Too many tries: please wait a moment.
