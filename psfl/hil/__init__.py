"""psfl.hil"""
