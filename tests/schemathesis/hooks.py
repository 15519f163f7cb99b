"""Schemathesis hooks for the controller's API: a tus upload chunk is raw bytes."""

import schemathesis

schemathesis.serializer.alias("application/offset+octet-stream", "application/octet-stream")
