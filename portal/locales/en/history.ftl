# An object's change history, in both consoles.

hist-link = History
hist-title = History of { $object }
hist-intro = Every change to this object, newest first: when, by whom, and each field before → after. Restore puts back the values a change replaced; the restore is itself recorded and can be undone the same way.
hist-caption = Changes
hist-col-when = When
hist-col-who = By
hist-col-action = Change
hist-col-changes = Fields (before → after)
hist-no-fields = no fields recorded
hist-restore = Restore the values before
hist-restore-confirm = Put back the values this change replaced?
hist-older = Older changes
