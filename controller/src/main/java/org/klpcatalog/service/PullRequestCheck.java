package org.klpcatalog.service;

import java.time.Instant;

/** The last check of a pull request: the commit checked, whether it plans, and the summary. */
public record PullRequestCheck(int number, String sha, boolean valid, String summary, Instant at) {}
