-- Repair instants stored as +/-infinity (or outside the accepted range) and keep them out.
--
-- Before the accepted range of instants existed (service/domain/instants.py: from
-- 1970-01-01T00:00:00Z to 9999-01-01T00:00:00Z), a valid_from of 0001-01-01T00:00:00Z was
-- stored as -infinity, and an opened event's event_time (its room's valid_from) with it.
-- Each such instant becomes the nearest end of the range, the value every read already
-- maps it to. (A migration is history: the range is written out here as it was then.)

UPDATE rooms SET valid_from = '1970-01-01T00:00:00Z'
WHERE valid_from < '1970-01-01T00:00:00Z';

UPDATE rooms SET valid_until = '9999-01-01T00:00:00Z'
WHERE valid_until > '9999-01-01T00:00:00Z';

UPDATE room_events SET event_time = '1970-01-01T00:00:00Z'
WHERE event_time < '1970-01-01T00:00:00Z';

UPDATE room_events SET event_time = '9999-01-01T00:00:00Z'
WHERE event_time > '9999-01-01T00:00:00Z';

-- The window's ends are finite from now on, whatever writes them.
ALTER TABLE rooms
    ADD CONSTRAINT rooms_valid_from_finite_check CHECK (isfinite(valid_from)),
    ADD CONSTRAINT rooms_valid_until_finite_check CHECK (isfinite(valid_until));
