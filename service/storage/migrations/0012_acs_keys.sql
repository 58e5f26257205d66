-- Access keys of the Azure Communication Services Rooms REST API (issue 25).
--
-- acs_keys: the keys a tenant's ACS connection strings carry (`accesskey=`). The
-- server verifies each request's HMAC-SHA256 with the key itself, so the key is
-- stored as it is (not a hash), like the signing keys' private keys in signing_keys:
-- whoever reads this table can sign as the tenant (docs/azure.md, "Access keys").
-- A revoked key keeps its row (revoke_time set) and is never accepted again.
CREATE TABLE acs_keys (
    tenant      text        COLLATE "C" NOT NULL,
    key_id      text        COLLATE "C" NOT NULL,
    secret      bytea       NOT NULL,
    create_time timestamptz NOT NULL,
    revoke_time timestamptz,
    PRIMARY KEY (tenant, key_id),
    CONSTRAINT acs_keys_secret_check CHECK (octet_length(secret) >= 32)
);
