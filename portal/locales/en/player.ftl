# The try-play page (/play/<code>) and what its script shows.

skip-to-content = Skip to content
language = Language
go-start = Go to the start page
error-code = Code:
error-request = request

link-revoked-title = This link has been withdrawn
link-revoked-text = The publisher no longer offers this try-play link.
link-expired-title = This link has expired
link-expired-text = The try-play period for this link is over.
link-used-up-title = This link has been used up
link-used-up-text = Every play this link offered has been taken.
link-not-found-title = We could not find this game
link-not-found-text = Check the link you were given: this one does not lead to a game.
link-unavailable-title = The game service is unavailable
link-unavailable-text = Please try again in a moment.
link-unplayable-title = This link cannot be played
link-unplayable-text = The link is not playable right now.

duration-seconds = { $n ->
    [one] 1 second
   *[other] { $n } seconds
}
duration-minutes = { $n ->
    [one] 1 minute
   *[other] { $n } minutes
}
duration-minutes-seconds = { $m }:{ $s } minutes
free-trial = Free trial · { $length }

saves-title = Continue from
save-newest = newest
save-pinned = kept
play = Play
sdk-missing = The player could not be loaded. Please try again later.
queue-title = You're in line
queue-position = Position
queue-of = of
queue-about = · about
queue-leave = Leave the line
starting = Starting your game…
preparing = Preparing your game…
connecting = Connecting…
game = Game
still-here = I'm here
mute = Mute
unmute = Unmute
fullscreen = Full screen
exit-fullscreen = Exit full screen
keyboard = Keyboard
leave = Leave
rotate-hint = Turn your phone sideways: this game plays in landscape.
thanks = Thanks for playing
play-again = Play again

eta-under-minute = under a minute
eta-minutes = { $n ->
    [one] 1 minute
   *[other] { $n } minutes
}
queue-reason-TENANT_QUOTA_FULL = All seats for this game are taken right now.
queue-reason-ROOM_FULL = The game servers near you are full right now.
queue-reason-NEW_PLAYS_PAUSED = New plays are paused for a moment; you keep your place in line.

error-generic = The game could not start.
