-- The client authentication method a connection uses at the token
-- endpoint: client_secret_basic or client_secret_post; '' lets the login
-- choose from what the IdP advertises (basic first). An IdP that offers
-- both may have registered the client for only one.
ALTER TABLE connections ADD COLUMN token_auth_method TEXT NOT NULL DEFAULT '';
