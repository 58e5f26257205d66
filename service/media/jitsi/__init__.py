"""Jitsi Meet: `config` reads a tenant's `[tenants.<tenant>.jitsi]` table and `issuer`
signs and reads its tokens (prosody token authentication). Nothing is pushed to Jitsi.
"""
