# The pages both consoles share: sign-in, not found, a failed controller read, recordings.

signin-title = Sign in
signin-email = Email
signin-password = Password
signin-expired = This sign-in form expired. Please try again.
signin-wrong = Wrong email or password.
signin-too-many = Too many attempts. Please wait a moment and try again.
signin-unavailable = Signing in is not possible right now ({ $code }).

page-not-found-title = Page not found
page-not-found-text = There is nothing at this address.
failed-not-found-title = Not found
failed-not-found-text = It does not exist, or it is not yours to see.
failed-forbidden-title = Not allowed
failed-forbidden-text = Your role does not allow this.
failed-server-title = Something went wrong
failed-server-text = The platform could not answer. Please try again in a moment.
failed-other-title = That did not work

rec-caption = Recordings
rec-recording = Recording
rec-session = Session
rec-state = State
rec-frames = Frames
rec-length = Length
rec-size = Size
rec-kept-until = Kept until
rec-state-recording = recording
rec-state-ready = ready
rec-state-failed = failed
rec-stop = Stop
rec-download = Download MP4
