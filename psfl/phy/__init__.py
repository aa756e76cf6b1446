"""psfl.phy"""
