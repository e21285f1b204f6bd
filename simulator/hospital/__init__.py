"""The hospital side of an exam: modality worklist in, PACS out (DICOM network, pynetdicom).

- :mod:`.address`: ``AET@host:port`` addresses of DICOM peers;
- :mod:`.worklist`: scheduled procedures from the lab's scenarios, written as worklist files
  for Orthanc's worklist plugin, and queried back with C-FIND;
- :mod:`.pacs`: C-ECHO and C-STORE of series folders, with a status per series;
- :mod:`.exam`: a console exam written as one Study, series numbered in acquisition order;
- :mod:`.orthanc`: links to Orthanc's viewer page of a stored series.

Configured by ``MERM_WORKLIST`` / ``MERM_PACS`` (``AET@host:port``) and ``MERM_PACS_WEB``
(Orthanc's HTTP address, for the viewer links). Every network failure is a
:class:`simulator.errors.UserError` with one line in English and French.
"""

from simulator.hospital.address import DicomAddress, parse_address

__all__ = ["DicomAddress", "parse_address"]
