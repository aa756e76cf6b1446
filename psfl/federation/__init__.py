"""psfl.federation"""
