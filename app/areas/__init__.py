"""Areas: a province's named groups of communes, the follow-up level that replaced districts."""
