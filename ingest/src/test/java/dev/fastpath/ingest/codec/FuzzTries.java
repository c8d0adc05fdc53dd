package dev.fastpath.ingest.codec;

import net.jqwik.api.lifecycle.AroundPropertyHook;
import net.jqwik.api.lifecycle.PropagationMode;
import net.jqwik.api.lifecycle.PropertyExecutionResult;
import net.jqwik.api.lifecycle.PropertyExecutor;
import net.jqwik.api.lifecycle.PropertyLifecycleContext;

/** Sets a property's tries from the {@code fastpath.fuzz.tries} system property (default 1000). */
public final class FuzzTries implements AroundPropertyHook {
  static int tries() {
    return Integer.getInteger("fastpath.fuzz.tries", 1000);
  }

  /** Registered on a class, so it must reach that class's properties. */
  @Override
  public PropagationMode propagateTo() {
    return PropagationMode.ALL_DESCENDANTS;
  }

  @Override
  public PropertyExecutionResult aroundProperty(
      PropertyLifecycleContext context, PropertyExecutor property) {
    context.attributes().setTries(tries());
    return property.execute();
  }
}
