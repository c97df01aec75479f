<?php

// No strict_types: the group-prefix merge below must behave as the core's
// Laravel 8.46 routing does, deprecation included.

namespace EvolutionCMS;

/**
 * The core's router. A 3.1 core vendors illuminate/routing 8.46, whose
 * RouteGroup::formatPrefix() reads a missing outer prefix as null and passes
 * it to trim(): a deprecation for every nested group that sets a prefix
 * inside one that has none. Debian's 8.83 fixed that, so this router does it
 * the 8.46 way before the usual merge.
 */
class Router extends \Illuminate\Routing\Router
{
    protected function updateGroupStack(array $attributes)
    {
        if ($this->hasGroupStack() && isset($attributes['prefix'])) {
            $outer = end($this->groupStack);
            trim($outer['prefix'] ?? null, '/');
        }
        parent::updateGroupStack($attributes);
    }
}
