package org.klpcatalog.bench;
final class Placeholder {}
