# The operator console (/operator/…): topology, arrays and boards, live plays and the queue,
# tenants, orders, specs and the audit log.

op-forbidden-title = Not allowed
op-forbidden-text = The operator console is for the platform's operators. Your account belongs to a tenant.
op-not-found-title = Not found
op-viewer-note = Your role (operator viewer) can read but not change this.
op-list-sep = {", "}
op-yes = yes
op-no = no

# States as people read them (the pages' classes and data attributes keep the wire names).
op-agent-online = online
op-agent-offline = offline
op-agent-lost = lost
op-board-active = active
op-board-draining = draining
op-board-disabled = disabled
op-session-reserved = reserved
op-session-preparing = preparing
op-session-ready = ready
op-session-playing = playing
op-session-ending = ending
op-session-ended = ended
op-instance-booting = booting
op-instance-warm = warm
op-instance-priming = priming
op-instance-preparing = preparing
op-instance-busy = busy
op-instance-resetting = resetting
op-instance-broken = broken
op-tenant-active = active
op-tenant-suspended = suspended
op-placement-spread = spread
op-placement-binpack = binpack

# Counts.
op-count-regions = { $n } { $n ->
    [one] region
   *[other] regions
}
op-count-rooms = { $n } { $n ->
    [one] room
   *[other] rooms
}
op-count-arrays = { $n } { $n ->
    [one] array
   *[other] arrays
}
op-count-boards = { $n } { $n ->
    [one] board
   *[other] boards
}
op-count-online = { $n } online
op-count-draining = { $n } draining
op-truncated-topology = Only the first 20,000 boards are shown.
op-truncated-array = Only the first 4,000 boards are shown.
op-truncated-board-plays = Only the first 4,000 live plays were searched are shown.
op-truncated-plays = Only the first 4,000 live plays are shown.

# Table columns.
op-col-session = Session
op-col-tenant = Tenant
op-col-game = Game
op-col-player = Player
op-col-spec = Spec
op-col-board = Board
op-col-room = Room
op-col-instance = Instance
op-col-state = State
op-col-connected = Connected
op-col-not-connected = Not connected
op-col-since = Since
op-col-play = Play
op-col-plays = Plays
op-col-package = Package
op-col-game-ready = Game ready
op-col-encoder = Video encoder
op-col-booted = Booted
op-col-place = Place
op-col-why = Why
op-col-waiting-since = Waiting since
op-col-starting = Starting
op-col-when = When
op-col-actor = Actor
op-col-action = Action
op-col-object = Object
op-col-summary = Summary
op-col-request = Request
op-col-status = Status
op-col-tier = Tier
op-col-storage = Storage
op-col-created = Created
op-col-order = Order
op-col-where = Where
op-col-concurrency = Concurrency
op-col-from = From
op-col-until = Until
op-col-priority = Priority
op-col-id = Id
op-col-name = Name
op-col-video = Video
op-col-bitrate = Bitrate
op-col-reserves = Reserves
op-col-price = Price / minute

# Topology.
op-topology-title = Topology
op-topology-empty = No regions yet. Create them with the controller's API ({ $create }, or a bulk { $import }).
op-topology-regions = Regions
op-topology-region = Region
op-topology-room = Room
op-topology-array = Array
op-topology-no-rooms = No machine rooms.
op-topology-no-arrays = No arrays.
op-room-facts = · cap { $cap } instances · { $placement } · boards rest above CPU { $cpu } % or { $temp } °C
op-boards-of = Boards of { $name }

# An array's board grid.
op-array-title = Array { $name }
op-array-heading = Array { $name }
op-array-not-found = There is no such array.
op-array-busy = { $running } of { $total } slots busy
op-array-autoreload = Refresh every 10 seconds
op-array-empty = No boards in this array yet.
op-cell-busy = { $used }/{ $slots } busy
op-cell-hot = No new plays: { $reason }
op-cell-load = , load { $load }
op-heat-0 = under 20%
op-heat-1 = 20–40%
op-heat-2 = 40–60%
op-heat-3 = 60–80%
op-heat-4 = 80% or more
op-heat-unknown = unknown (no live telemetry)
op-legend-title = Legend
op-legend-text = Colour shows load: the larger of the share of slots busy and the CPU.
op-legend-load = Load { $level }
op-legend-none = Offline, lost or no telemetry yet
op-legend-draining = Draining (dashed border): keeps its plays, takes no new ones
op-legend-disabled = Disabled (dotted border): out of service
op-legend-hot = Hot (outlined): over its room's CPU or temperature limit — keeps its plays, takes no new ones until it cools

# A board.
op-board-title = Board { $serial }
op-board-heading = Board { $serial }
op-board-back = ← Array { $name }
op-board-agent = Agent
op-board-status = Status
op-board-id = Id
op-board-model = Model
op-board-slots = Slots
op-board-agent-version = Agent version
op-board-last-seen = Last seen
op-drain = Drain
op-drain-confirm = Drain this board? It keeps its plays but takes no new ones, and its players are warned.
op-undrain = Undrain
op-enable = Return to service
op-enable-confirm = Put this board back into service? It starts taking plays.
op-tele-title = Telemetry
op-tele-live = Update every 3 seconds
op-tele-cpu = CPU
op-tele-load1 = Load (1 min)
op-tele-mem = Memory
op-tele-mem-value = { $used } of { $total } MB
op-tele-temps = Temperatures
op-tele-disk = Disk free
op-tele-instances = Instances
op-tele-instances-value = { $running } running, { $warm } warm, { $slots } slots
op-chart-cpu = CPU
op-chart-mem = Memory in use
op-chart-temp = Hottest sensor
op-chart-aria = { $label }, the last few minutes ({ $unit })
op-chart-scale = Scale { $lo }–{ $hi }{ $unit }; newest on the right
op-instances-caption = Instances
op-board-plays = Plays on this board
op-plays-caption = Live plays
op-kick = Kick
op-kick-confirm = End this play now? The player sees that it was ended.
op-shell-title = Shell
op-shell-offline = The board's agent is not connected: commands cannot run now.
op-shell-instance = Instance { $id }
op-shell-instance-id = Instance id
op-shell-command = Command
op-shell-timeout = Time limit (seconds, 1–600)
op-shell-run = Run
op-shell-audited = Every command is recorded in the audit log with your account.
op-shell-output = Command output
op-agent-log-title = Agent log
op-agent-log-lines = Lines (1–2000)
op-agent-log-run = Show the agent's log
op-agent-log-offline = The board's agent is not connected: its log cannot be read now.

# Live plays and the queue.
op-queue-title = Live plays
op-queue-heading = Live plays & queue
op-queue-autoreload = Refresh every 5 seconds
op-queue-waiting = Waiting in line ({ $n })
op-queue-waiting-caption = Players waiting, in line order per tenant
op-queue-groups = Per tenant and game
op-queue-groups-caption = Live plays per tenant and game
op-queue-every = Every live play

# A live play.
op-session-title = Play { $id }
op-session-heading = Play { $id }
op-session-back = ← Board { $id }
op-session-gone-title = Not a live play
op-session-gone-text = This play has ended, or there is no such session.
op-spectate-title = Live view
op-spectate-video = Live view of the play (no sound)
op-spectate-start = Watch live
op-spectate-stop = Stop watching
op-spectate-note = Watching is recorded in the audit log. The player is not told and cannot be disturbed.
op-screenshot = Screenshot
op-screenshot-download = Download PNG
op-screenshot-alt = Screenshot of the play
op-session-latency = Touch to screen
op-session-latency-value = last { $last } ms, mean { $mean } ms, max { $max } ms ({ $probes } probes)
op-session-latency-none = not measured (the player's SDK reports its latency probes)
op-recording-title = Recording
op-recording-text = The play's own video (H.264, not re-encoded) into an MP4 file, from its next key frame until stopped or until the play ends; its tenant can download it too.
op-record = Record
op-logcat-title = Logcat
op-logcat-filter = Filter (logcat filter specs, e.g. { $example })
op-logcat-lines = Past lines
op-logcat-timeout = Follow for (seconds, 1–600)
op-logcat-run = Follow the log
op-logcat-output = Log output
op-session-shell = Shell in this instance

# Tenants.
op-tenants-title = Tenants
op-tenant-suspend = Suspend
op-tenant-suspend-confirm = Suspend this tenant? Its players can no longer start plays.
op-tenant-reactivate = Reactivate
op-tenant-storage-value = { $used } of { $quota }
op-tenant-orders = Orders
op-tenant-audit = Audit
op-tenant-tier-label = Priority tier (higher tiers are served first when capacity is short)
op-tenant-create = Create tenant
op-tenant-first-admin = Create the tenant's first admin account with the controller's API ({ $api }).
op-tenant-new = New tenant

# Orders.
op-orders-title = Orders
op-order-scope-region = region { $name }
op-order-scope-rooms = { $n ->
    [one] room
   *[other] rooms
} { $names }
op-order-cancelled = cancelled
op-order-expired = expired
op-order-scheduled = scheduled
op-order-active = active
op-order-cancel = Cancel
op-order-cancel-confirm = Cancel this order? The tenant's plays beyond its other orders wait in the queue.
op-order-every-tenant = Every tenant
op-order-show = Show
op-order-needs = Create a tenant and a spec first.
op-order-choose-tenant = Choose a tenant
op-order-region = Where: a whole region…
op-order-no-region = — (choose rooms instead)
op-order-rooms = … or these machine rooms (exactly one of the two)
op-order-room-region = ({ $region })
op-order-concurrency = Concurrency (instances at once)
op-order-from = Valid from
op-order-until = Valid until
op-order-priority = Priority within the tenant's tier
op-order-create = Create order
op-order-new = New order

# Specs.
op-specs-title = Specs
op-specs-intro = What tenants buy and plays are billed by. Change a spec's bitrate, reservation or price with the controller's API ({ $api }).
op-spec-reserves-value = { $cores } cores, { $mb } MB
op-spec-id-label = Id (lowercase letters, digits and dashes, e.g. { $example }; it cannot change)
op-spec-width = Width (px)
op-spec-height = Height (px)
op-spec-fps = Frames per second
op-spec-bitrate-min = Lowest bitrate (kbit/s)
op-spec-bitrate-max = Highest bitrate (kbit/s)
op-spec-cpu = CPU reserved (thousandths of a core)
op-spec-mem = Memory reserved (MB)
op-spec-price = Price per minute (micro-units)
op-spec-price-hint = Price in micro-units of the platform currency: 1.00 is 1000000.
op-spec-create = Create spec
op-spec-new = New spec

# The audit log.
op-audit-title = Audit log
op-audit-intro = Every change, oldest first: who did what to which object.
op-audit-tenant = Tenant id
op-audit-object = Object id
op-audit-action = Action (e.g. { $example })
op-audit-filter = Filter
op-audit-clear = Clear
op-audit-caption = Audit entries

# Degrade switches (/operator/switches).
op-sw-title = Degrade switches
op-sw-intro = A switch that is on takes something out for the platform, a region, a room or a tenant, at once on every controller, until it is turned off. Plays under way go on; players are told what waits.
op-sw-caption = Switches that are on
op-sw-col-switch = Switch
op-sw-col-scope = Where
op-sw-col-note = Why
op-sw-col-since = Since
op-sw-col-by = By
op-sw-new = Turn a switch on
op-sw-name = Switch
op-sw-scope = Where
op-sw-scope-hint = Pausing new plays works anywhere; the other switches apply to the platform or a tenant.
op-sw-note = Why (shown to the other operators)
op-sw-on = Turn on
op-sw-off = Turn off
op-sw-off-confirm = Turn this switch off? What it held back resumes at once.
op-sw-scope-platform = The whole platform
op-sw-scope-region = Region { $name }
op-sw-scope-room = Room { $name }
op-sw-scope-tenant = Tenant { $name }
op-sw-name-new_plays = Pause new plays
op-sw-does-new_plays = Players who ask are queued and keep their place; they start when it is off.
op-sw-name-spectators = No spectators
op-sw-does-spectators = Watch links and walls answer "try again later".
op-sw-name-webhooks = Hold webhooks
op-sw-does-webhooks = Deliveries wait, none dropped; they go out when it is off.
op-sw-name-archives = No saves
op-sw-does-archives = Plays start without restoring a save and end without keeping one.
op-sw-name-lowest_spec = Lowest spec only
op-sw-does-lowest_spec = New plays start at the game's lowest spec (SD instead of HD) so the boards fit more; players are told. Plays under way keep theirs.

# Maintenance windows (/operator/maintenance).
op-mnt-title = Maintenance
op-mnt-intro = A window tells the players in session there ahead of time how long they have, then drains its boards (no new plays there), ends the plays still on them with their saves kept, and gives the boards back when it ends.
op-mnt-col-of = Of
op-mnt-col-starts = Starts
op-mnt-col-ends = Ends
op-mnt-col-state = State
op-mnt-col-note = Why
op-mnt-col-drained = Drained
op-mnt-of-room = Room { $name }
op-mnt-of-board = Board { $name }
op-mnt-state-scheduled = scheduled
op-mnt-state-announced = announced
op-mnt-state-under_way = under way
op-mnt-state-done = done
op-mnt-state-cancelled = cancelled
op-mnt-cancel = Call off
op-mnt-end-now = End now
op-mnt-cancel-confirm = Call this maintenance off? Under way, it ends now and its boards take plays again.
op-mnt-new = Schedule maintenance
op-mnt-room = Room
op-mnt-room-none = (a board instead)
op-mnt-board = Board
op-mnt-board-none = (the whole room)
op-mnt-starts = Starts
op-mnt-ends = Ends
op-mnt-note = Why (players and operators see it)
op-mnt-hint = Choose a room or a board. Players in session there are told from 15 minutes before (the controller's setting).
op-mnt-schedule = Schedule
