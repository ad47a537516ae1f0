"""Generated gRPC stubs; regenerate with tools/gen_protos.py."""
