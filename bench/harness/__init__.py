"""The load-generating LTI 1.3 platform and the server runner of `bench/launch_load.py`."""
