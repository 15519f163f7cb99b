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

end-TRIAL_OVER = Your free trial is over.
end-USER_LEFT = You left the game.
end-IDLE = The game ended because there was no input for a while.
end-KICKED = The game was ended by the publisher.
end-BOARD_LOST = We lost the connection to the game server.
end-APP_CRASHED = The game stopped unexpectedly.
end-APP_NOT_RESPONDING = The game stopped responding.
end-MAINTENANCE = The game server went into maintenance. Please come back later.
end-CLAIM_EXPIRED = Your turn came, but the game was not started in time.
end-CONNECTION_LOST = The connection was lost and could not be restored.
end-REPLACED = You started this game again somewhere else.
end-ERROR = Something went wrong on our side.
end-other = The game ended ({ $reason }).

notice-IDLE_WARNING = Still there? The game ends soon if nothing happens.
notice-MAINTENANCE = This game server goes into maintenance soon.
notice-RECOVERING = The picture stalled: reconnecting…

error-generic = The game could not start.
error-NETWORK = We could not reach the game service. Check your connection and try again.
error-CONNECTION_LOST = The connection was lost and could not be restored.
error-WEBRTC_FAILED = Your browser could not connect to the game.
error-PREPARE_TIMEOUT = The game took too long to start.
error-TICKET_ENDED = Your place in line was given up.
error-LINK_EXPIRED = This link has expired.
error-LINK_REVOKED = This link has been withdrawn.
error-LINK_EXHAUSTED = This link has been used up.
error-RATE_LIMITED = Too many tries: please wait a moment.
error-NO_CAPACITY = No game server can take you right now.
error-SDK_MISSING = The player could not be loaded. Please try again later.
