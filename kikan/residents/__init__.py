"""住民記録: the resident register — persons, households, every 異動, bitemporal history."""
