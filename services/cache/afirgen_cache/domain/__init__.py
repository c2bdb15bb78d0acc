"""Pure cache logic: no grpc, no redis."""
