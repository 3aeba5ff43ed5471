package org.klpcatalog.sourcecheck;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.klpcatalog.catalog.analysis.SourceFunctions;

/**
 * The calls each function of one C file makes, by name, read from its body (comments, strings and
 * character literals skipped): enough to say which changed function the compiler inlined into a
 * caller whose code changed. Pure; linear in the file's length.
 */
final class CallGraph {
  private final Map<String, Set<String>> calls;

  private CallGraph(Map<String, Set<String>> calls) {
    this.calls = calls;
  }

  static CallGraph of(String text) {
    String[] lines = text.split("\n", -1);
    int[] starts = new int[lines.length + 1];
    for (int i = 0, pos = 0; i < lines.length; i++) {
      starts[i] = pos;
      pos += lines[i].length() + 1;
    }
    starts[lines.length] = text.length();
    Map<String, Set<String>> calls = new HashMap<>();
    for (SourceFunctions.Definition d : SourceFunctions.scan(text)) {
      int from = starts[Math.max(0, d.firstLine() - 1)];
      int to = starts[Math.min(lines.length, d.lastLine())];
      calls
          .computeIfAbsent(d.name(), k -> new LinkedHashSet<>())
          .addAll(callsIn(text, from, Math.min(to, text.length())));
    }
    return new CallGraph(calls);
  }

  /**
   * The functions of {@code changed} that {@code caller} calls directly, or through functions of
   * this file that have no symbol of their own ({@code symbols} are the unit's function symbols: a
   * function without one was inlined wherever it is called).
   */
  List<String> reachesChanged(String caller, Set<String> changed, Set<String> symbols) {
    Set<String> found = new TreeSet<>();
    Set<String> seen = new HashSet<>();
    Deque<String> todo = new ArrayDeque<>();
    todo.add(caller);
    seen.add(caller);
    while (!todo.isEmpty()) {
      for (String callee : calls.getOrDefault(todo.poll(), Set.of())) {
        if (changed.contains(callee)) {
          found.add(callee);
        }
        if (calls.containsKey(callee) && !symbols.contains(callee) && seen.add(callee)) {
          todo.add(callee);
        }
      }
    }
    return new ArrayList<>(found);
  }

  /** Identifiers followed by '(' in text[from, to), outside comments and literals. */
  static Set<String> callsIn(String text, int from, int to) {
    Set<String> out = new LinkedHashSet<>();
    int i = from;
    while (i < to) {
      char c = text.charAt(i);
      if (c == '/' && i + 1 < to && text.charAt(i + 1) == '*') {
        int end = text.indexOf("*/", i + 2);
        i = end < 0 || end >= to ? to : end + 2;
      } else if (c == '/' && i + 1 < to && text.charAt(i + 1) == '/') {
        int end = text.indexOf('\n', i);
        i = end < 0 || end >= to ? to : end + 1;
      } else if (c == '"' || c == '\'') {
        i++;
        while (i < to && text.charAt(i) != c && text.charAt(i) != '\n') {
          i += text.charAt(i) == '\\' ? 2 : 1;
        }
        i++;
      } else if (Character.isLetter(c) || c == '_') {
        int start = i;
        while (i < to && (Character.isLetterOrDigit(text.charAt(i)) || text.charAt(i) == '_')) {
          i++;
        }
        int j = i;
        while (j < to && (text.charAt(j) == ' ' || text.charAt(j) == '\t')) {
          j++;
        }
        if (j < to && text.charAt(j) == '(') {
          out.add(text.substring(start, i));
        }
      } else if (Character.isDigit(c)) {
        while (i < to && (Character.isLetterOrDigit(text.charAt(i)) || text.charAt(i) == '.')) {
          i++;
        }
      } else {
        i++;
      }
    }
    return out;
  }
}
