<?php

// The slice of Evolution CMS 3.x the package touches, for a plain Laravel host.

namespace EvolutionCMS {
    if (!class_exists(ServiceProvider::class, false)) {
        class ServiceProvider extends \Illuminate\Support\ServiceProvider
        {
            /** Evolution "plugins": every *.php in $dir is included once. */
            public function loadPluginsFrom($dir)
            {
                foreach (glob(rtrim((string) $dir, '/') . '/*.php') ?: [] as $file) {
                    include_once $file;
                }
            }
        }
    }
}

namespace App\Evolution {
    /** What evo() returns here. */
    class Core
    {
        /** hasPermission() answers true for these (or for all with '*'). */
        public static array $permissions = [];

        public static ?int $userId = null;

        private static ?self $instance = null;

        public static function instance(): self
        {
            return self::$instance ??= new self();
        }

        /** Evolution reads config('cms.settings.'.$name) over the legacy settings. */
        public function getConfig($name = '', $default = null)
        {
            return config('cms.settings.' . $name, $default);
        }

        public function setConfig($name, $value): void
        {
            config(['cms.settings.' . $name => $value]);
        }

        public function hasPermission($permission, $context = '')
        {
            $env = getenv('EVO_PERMISSIONS');
            $granted = array_merge(self::$permissions, $env ? explode(',', $env) : []);

            return in_array('*', $granted, true) || in_array((string) $permission, $granted, true);
        }

        public function getLoginUserID($context = '')
        {
            if (self::$userId !== null) {
                return self::$userId;
            }
            $env = getenv('EVO_USER_ID');

            return $env === false || $env === '' ? false : (int) $env;
        }

        public function invokeEvent($name, array $params = [])
        {
            return app('events')->dispatch('evolution.' . $name, [$params]);
        }
    }
}

namespace {
    if (!function_exists('evo')) {
        function evo()
        {
            return \App\Evolution\Core::instance();
        }
    }
    if (!function_exists('evolutionCMS')) {
        function evolutionCMS()
        {
            return evo();
        }
    }
}
