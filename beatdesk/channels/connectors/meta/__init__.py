"""Meta: Facebook Pages and Instagram professional accounts over the Graph API."""
