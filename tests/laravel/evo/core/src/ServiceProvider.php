<?php

namespace EvolutionCMS;

/** The core's provider base class: Laravel's, plus Evolution's plugin folders. */
class ServiceProvider extends \Illuminate\Support\ServiceProvider
{
    /** Evolution "plugins": every *.php in $path is included. */
    public function loadPluginsFrom($path)
    {
        foreach (glob(rtrim((string) $path, '/') . '/*.php') ?: [] as $file) {
            include_once $file;
        }
    }
}
