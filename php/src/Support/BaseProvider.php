<?php

declare(strict_types=1);

namespace Seiger\sTask\Support;

/*
 * The parent of sTaskServiceProvider: Evolution CMS's provider when the host
 * is Evolution (it adds loadPluginsFrom() and friends), Laravel's otherwise.
 * Declared as an alias so the provider itself stays a plain class.
 */
if (!class_exists(BaseProvider::class, false)) {
    if (class_exists(\EvolutionCMS\ServiceProvider::class)) {
        class_alias(\EvolutionCMS\ServiceProvider::class, BaseProvider::class);
    } else {
        class_alias(\Illuminate\Support\ServiceProvider::class, BaseProvider::class);
    }
}
