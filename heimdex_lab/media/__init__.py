"""Reading video files: validation by probing the bytes, and decoding frames and audio."""
