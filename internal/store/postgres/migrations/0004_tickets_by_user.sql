-- Tickets by user: CreateTicket deletes a user's expired tickets and counts
-- the rest against HERALD_MAX_TICKETS_PER_USER.
CREATE INDEX tickets_user ON tickets (user_id, expires_at);
