"""Compliance policies: rules over the network and the simulator, findings with evidence."""
