"""The episode wing: the per-episode map, one module per stage (`stages.STAGES` lists them in order)."""
