-- Degrade switches that are on: one row a switch and scope (`platform`, `region:<id>`,
-- `room:<id>`, `tenant:<id>`); a switch is off when it has no row. Small by nature (four
-- switches times the scopes an operator named), read whole by every replica.
CREATE TABLE switches (
    name       TEXT NOT NULL,
    scope      TEXT NOT NULL,
    note       TEXT,
    since      BIGINT NOT NULL,
    set_by     TEXT NOT NULL,
    PRIMARY KEY (name, scope)
);
