"""Live HLS out of the packets the plane already forwards (issue 16; docs/hls.md)."""
