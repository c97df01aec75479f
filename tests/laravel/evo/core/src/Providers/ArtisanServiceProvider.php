<?php

namespace EvolutionCMS\Providers;

use EvolutionCMS\Console\VendorPublishCommand;
use Illuminate\Support\ServiceProvider;

/** The core's own commands that the package's install steps use. */
class ArtisanServiceProvider extends ServiceProvider
{
    public function register()
    {
        $this->commands([VendorPublishCommand::class]);
    }
}
