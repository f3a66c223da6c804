"""The audio wing: a signal engine that knows no episode (ffmpeg, loudness, mastering, mix, clean-up, edits)."""
