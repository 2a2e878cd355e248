"""iep-followup."""
