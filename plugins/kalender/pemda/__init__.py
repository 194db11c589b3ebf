"""How a city government works: stand-ins, approval by Prokopim, protocol details.

Pure readers of what PICs write (``standin``, ``protocol``), the approval
state the server keeps beside the PIC's data (``approval``, ``approvals``,
``decisions``); the clash engine, the sync and the web ask these modules.
"""
