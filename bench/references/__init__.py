"""Reference LTI 1.3 tools the launch-load benchmark compares ltiservice with."""
