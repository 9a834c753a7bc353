"""What every part reads: where files are, checked reading and atomic writing of files, user-facing errors, the environment, the hub."""
