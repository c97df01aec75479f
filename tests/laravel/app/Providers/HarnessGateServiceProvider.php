<?php

namespace App\Providers;

use Illuminate\Auth\GenericUser;
use Illuminate\Support\Facades\Auth;
use Illuminate\Support\Facades\Gate;
use Illuminate\Support\ServiceProvider;

/**
 * A plain Laravel host's authorization (HARNESS_HOST=laravel, no evo()):
 * HARNESS_USER_ID logs that user in through a request guard, and
 * HARNESS_GATE=allow|deny defines the `stask` ability (unset: no Gate).
 */
class HarnessGateServiceProvider extends ServiceProvider
{
    public function boot()
    {
        $user = getenv('HARNESS_USER_ID');
        config([
            'auth.defaults.guard' => 'harness',
            'auth.guards.harness' => ['driver' => 'harness'],
        ]);
        Auth::viaRequest('harness', static fn () => $user === false || $user === '' ? null : new GenericUser(['id' => (int) $user]));

        $gate = getenv('HARNESS_GATE');
        if ($gate === 'allow' || $gate === 'deny') {
            Gate::define('stask', static fn ($user) => $gate === 'allow' && $user !== null);
        }
    }
}
