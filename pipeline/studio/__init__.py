"""The studio: a page for hosts that `panelpress serve` shows at its own address (layout.PREVIEW_STUDIO), on this
machine alone and never published: what waits for review and why, and per episode its loudness before and after
mastering, the limiter's work, talk time, the flagged words and downloads."""
