"""Anchors: the grid at stride 8 and the k-means anchor sizes (Eq. 2)."""
